import { ProvisionerError } from '../errors.js';

/** Another fleet or provisioning job holds this trainee right now: try again later. */
export class UserBusyError extends ProvisionerError {
  constructor(username: string) {
    super('USER_BUSY', `another job is working on "${username}"`, { retryable: true });
  }
}
