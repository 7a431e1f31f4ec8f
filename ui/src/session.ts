import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** What every view may do besides reading: sign out when the token stops working. */
export interface Session {
  signOut(message?: string): void;
}

export const SessionContext = createContext<Session>({ signOut: () => undefined });

export function useSession(): Session {
  return useContext(SessionContext);
}
