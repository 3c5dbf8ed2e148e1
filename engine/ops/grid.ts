/** Dispatch sizing for 1-D kernels: folds more than 65,535 workgroups into a second dimension. */
export function grid1d(n: number, wg: number): { workgroups: [number, number]; groupsX: number } {
  const groups = Math.max(1, Math.ceil(n / wg));
  const groupsX = Math.min(groups, 65535);
  return { workgroups: [groupsX, Math.ceil(groups / groupsX)], groupsX };
}
