/** An error of the instruction layer (BuildKit's `instructions` package), message as BuildKit words it. */
export class InstructionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstructionError";
  }
}
