import { fastPathOutcomes } from '../../src/services/journal-fast';

/** How the fast booking path took requests since `before` (a copy of `fastPathOutcomes` taken earlier). */
export function fastPathDelta(before: typeof fastPathOutcomes) {
  return {
    booked: fastPathOutcomes.booked - before.booked,
    replayed: fastPathOutcomes.replayed - before.replayed,
    declined: fastPathOutcomes.declined - before.declined,
  };
}
