// The part of jStat (npm `jstat`, no type declarations of its own) that the experiment statistics use.
declare module 'jstat' {
  const jStat: {
    studentt: {
      /** the quantile (inverse CDF) of Student's t with `dof` degrees of freedom */
      inv(p: number, dof: number): number;
      cdf(x: number, dof: number): number;
    };
  };
  export default jStat;
}
