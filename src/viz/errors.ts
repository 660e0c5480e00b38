// Bad input to the visualization commands (a flag, a file, an index): the commands
// print the message and exit with status 2.
import { InputError } from '../errors.js';

export class VizInputError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'VizInputError';
  }
}
