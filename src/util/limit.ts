/** Runs at most `n` of the functions given to it at once; the others wait their turn, in order. */
export type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

export function limiter(n: number): Limit {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
