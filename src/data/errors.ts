// Errors for bad input data: each names the file (or folder) and what is wrong with it.
// The command line maps DataError to exit status 2.
import { FocusnetError } from '../gpu/errors.js';

export class DataError extends FocusnetError {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'DataError';
    this.file = file;
  }
}
