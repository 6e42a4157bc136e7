/**
 * Kafka bootstrap broker lists, parsed whole: every entry is `host:port` or refused with a message that
 * names it. No entry is ever dropped, so the monitor never connects to fewer brokers than were written.
 */
import { credentialProblem, type CredentialRemedy } from '../secrets/credentials';

export type BrokerList = { brokers: string[]; username?: string } | { problem: string };

/** `host:port`: a host name, an IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535. */
const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/**
 * Parses broker entries. `withUser`: the first entry may carry the SASL user name (`alice@h1:9092`, the
 * URL form); elsewhere a user name belongs in auth.username. A password anywhere is the credential check's
 * refusal, before any other problem.
 */
export function parseBrokerList(entries: readonly string[], remedy: CredentialRemedy, withUser = false): BrokerList {
  const credential = credentialProblem({ brokers: entries }, remedy);
  if (credential) return { problem: credential };
  if (entries.length === 0 || (entries.length === 1 && String(entries[0]).trim() === '')) return { problem: 'The broker list is empty; list the bootstrap servers as host:port, for example 127.0.0.1:9092.' };
  const out: string[] = [];
  let username: string | undefined;
  const n = entries.length;
  for (let i = 0; i < n; i++) {
    const which = n > 1 ? `Broker ${i + 1} of ${n}` : 'The broker';
    let entry = String(entries[i]).trim();
    if (entry === '') return { problem: `${which} is empty (a doubled or trailing comma?); list the bootstrap servers as host:port separated by commas.` };
    const at = entry.lastIndexOf('@');
    if (at >= 0) {
      if (!withUser || i > 0) {
        return {
          problem: withUser
            ? `${which} (${entry.slice(at + 1)}) carries a user name; write it once, before the first broker: kafka://<user>@host:port,host:port/<topic>.`
            : `${which} (${entry.slice(at + 1)}) carries a user name; write it in auth.username instead.`,
        };
      }
      username = decodeUser(entry.slice(0, at));
      entry = entry.slice(at + 1);
    }
    const m = HOST_PORT.exec(entry);
    const port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) return { problem: `${which} ("${entry}") is not host:port; write it like 127.0.0.1:9092.` };
    out.push(entry);
  }
  return username ? { brokers: out, username } : { brokers: out };
}

function decodeUser(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
