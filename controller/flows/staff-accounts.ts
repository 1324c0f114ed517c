/**
 * An administrator manages staff accounts: the use cases apart from HTTP. A new account and a reset PIN get a
 * generated PIN, shown once to the administrator and to be changed at the next sign-in; an account that is
 * disabled or whose PIN is reset is signed out everywhere at once.
 */
import { randomInt } from 'node:crypto';
import type { Actor } from '../domain/types.js';
import { CabinetError } from '../errors.js';
import {
  createStaff,
  deleteSessionsOfStaff,
  getStaff,
  inTransaction,
  pinProblem,
  setStaffDisabled,
  setStaffPin,
  type Staff,
  type Store,
} from '../store/index.js';
import { said } from '../words/keys.js';

/** A random 8-digit PIN that passes the PIN rules. */
export function generatePin(): string {
  let pin = '';
  do pin = String(randomInt(0, 100_000_000)).padStart(8, '0');
  while (pinProblem(pin) !== null);
  return pin;
}

/** A new account with a generated first PIN (returned once; the account must change it at first sign-in). */
export async function createAccount(
  store: Store,
  input: { login: string; name: string; role: 'staff' | 'admin' },
  actor: Actor,
): Promise<{ account: Staff; pin: string }> {
  const pin = generatePin();
  const account = await createStaff(store.ctx, { ...input, pin, mustChangePin: true }, actor);
  return { account, pin };
}

/** Disables (signing it out everywhere in the same transaction) or enables an account. */
export function setAccountDisabled(store: Store, staffId: number, disabled: boolean, actor: Actor): Staff {
  return inTransaction(store.db, () => {
    const account = setStaffDisabled(store.ctx, staffId, disabled, actor);
    if (disabled) deleteSessionsOfStaff(store.ctx, account.id);
    return account;
  });
}

/** A new generated PIN for an account (returned once; to be changed at next sign-in); its sessions end. */
export async function resetAccountPin(store: Store, staffId: number, actor: Actor): Promise<{ account: Staff; pin: string }> {
  if (!getStaff(store.ctx, staffId)) throw new CabinetError('NOT_FOUND', said('staff.no_such_account'), { staffId });
  const pin = generatePin();
  await setStaffPin(store.ctx, staffId, pin, actor);
  deleteSessionsOfStaff(store.ctx, staffId);
  const account = getStaff(store.ctx, staffId);
  if (!account) throw new CabinetError('NOT_FOUND', said('staff.no_such_account'), { staffId });
  return { account, pin };
}
