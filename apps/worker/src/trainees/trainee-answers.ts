import { describeTrainee, listTrainees, traineeListQuery, traineeShowQuery, type FleetSettings, type TraineeViewPorts, type IdentityProvider } from '@kup/core';
import { answerer, type QueryAnswerer } from '../queries/answer-queries.js';

/** The worker's answers to the trainee API's reads. */
export function traineeAnswerers(ports: TraineeViewPorts & { identity: Pick<IdentityProvider, 'listManaged'> }, settings: FleetSettings): QueryAnswerer[] {
  return [
    answerer(traineeListQuery, (params, { signal }) => listTrainees(ports.identity, params, signal)),
    answerer(traineeShowQuery, async ({ username }, { signal }) => {
      const trainee = await describeTrainee(ports, settings, username, signal);
      return trainee ? { managed: true as const, trainee } : { managed: false as const };
    }),
  ] as QueryAnswerer[];
}
