// One browser set-up per test file, whose failure fails every test (uvu drops an error thrown in
// a `before` hook: the file would report "0 / N" and exit 0). `setUpSuite(test, setUp, tearDown)`
// runs setUp once before the tests and tearDown after them; each test starts with
// `await ready()`, which throws "set-up failed: …" if setUp did.
export function setUpSuite(test, setUp, tearDown) {
  let outcome = null;
  test.before(async () => {
    outcome = setUp().then(() => null, (e) => e);
  });
  test.after(async () => {
    await outcome;
    await tearDown();
  });
  return async function ready() {
    const e = await outcome;
    if (e) throw new Error(`set-up failed: ${e.message}`);
  };
}
