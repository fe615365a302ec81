/**
 * Which client a request comes from, for the sign-in throttle (src/lib/throttle.ts): read from
 * `X-Forwarded-For`, and counted the way the Python web process counts one
 * (medremind/web/failure_limiter.py `client_of`): an IPv4 address as it is, also when written
 * IPv4-mapped (`::ffff:203.0.113.9`, as Node names an IPv4 peer on a dual-stack socket); an IPv6
 * address as its /64, since one subscriber is given a whole /64 and could name a new address of
 * it with every attempt. No server imports, so unit-tested (test/client-address.test.mjs).
 *
 * Who is believed: Next.js adds the connection's address to `X-Forwarded-For` only when the
 * request has none, so a client that reaches `next start` directly writes the whole header. The
 * dashboard must be reachable through its proxy only, and that proxy must append its peer
 * (nginx `$proxy_add_x_forwarded_for`, Heroku's router, Caddy): the last entry is then the
 * proxy's, and the ones before it are whatever the client sent. Proxies in front of that one
 * (a load balancer, a CDN) are named in DASHBOARD_TRUSTED_PROXIES: their entries are skipped,
 * from the right, as uvicorn's FORWARDED_ALLOW_IPS does for the web process.
 */

/** An address's bytes: 4 for IPv4, 16 for IPv6. */
type Bytes = number[];

/** A trusted proxy's network: its address and how many leading bits of it are the network. */
export interface Network {
  bytes: Bytes;
  bits: number;
}

// The longest non-address entry kept as a key (an entry such as "unknown" is not bounded).
const MAX_KEY_CHARS = 64;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function ipv4Bytes(text: string): Bytes | null {
  const parts = IPV4.exec(text)?.slice(1);
  if (!parts) return null;
  // Leading zeros are refused, as Python's ipaddress does: some readers take "010" as octal.
  if (parts.some((part) => part.length > 1 && part.startsWith("0"))) return null;
  const bytes = parts.map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : null;
}

function ipv6Bytes(text: string): Bytes | null {
  let body = text.toLowerCase();
  let tail: Bytes = [];
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".")) {
    // An embedded IPv4 address in the last 32 bits (::ffff:1.2.3.4, 64:ff9b::1.2.3.4).
    const v4 = ipv4Bytes(body.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    body = body.slice(0, lastColon + 1); // "::ffff:", "64:ff9b::", "::"
    if (!body.endsWith("::")) body = body.slice(0, -1);
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groups = halves.map((half) => (half === "" ? [] : half.split(":")));
  if (groups.flat().some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return null;
  const wanted = 8 - tail.length / 2;
  const written = groups.flat().length;
  if (halves.length === 1 ? written !== wanted : written >= wanted) return null;
  const words = [...(groups[0] ?? []), ...Array(wanted - written).fill("0"), ...(groups[1] ?? [])];
  return [...words.flatMap((word) => [parseInt(word, 16) >> 8, parseInt(word, 16) & 0xff]), ...tail];
}

/**
 * The bytes of one `X-Forwarded-For` entry's address, or null when it is not one. Written with a
 * port (`203.0.113.9:51234`, `[2001:db8::1]:443`, as some load balancers append) or a zone
 * (`fe80::1%eth0`), the address alone: a port is the client's to choose with every connection.
 */
export function addressBytes(entry: string): Bytes | null {
  let text = entry.trim();
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1] ?? "";
  else text = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text)?.[1] ?? text;
  text = text.replace(/%.*$/, "");
  return ipv4Bytes(text) ?? (text.includes(":") ? ipv6Bytes(text) : null);
}

/** IPv4-mapped IPv6 bytes as the IPv4 address they stand for; others as they are. */
function unmapped(bytes: Bytes): Bytes {
  const mapped = bytes.length === 16 && IPV4_MAPPED_PREFIX.every((byte, i) => bytes[i] === byte);
  return mapped ? bytes.slice(12) : bytes;
}

/** An IPv6 address in its shortest form (RFC 5952: the first longest run of zero groups is ::). */
function ipv6Text(bytes: Bytes): string {
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let length = 0;
    while (i + length < 8 && words[i + length] === 0) length++;
    if (length > best.length) best = { start: i, length };
  }
  const hex = words.map((word) => word.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/**
 * The client an address stands for: an IPv4 address as it is (also when IPv4-mapped), an IPv6
 * address as its /64 (`2001:db8:1:2::/64`), anything else as its text (at most 64 characters).
 */
export function clientOf(entry: string): string {
  const parsed = addressBytes(entry);
  if (!parsed) return entry.trim().slice(0, MAX_KEY_CHARS);
  const bytes = unmapped(parsed);
  if (bytes.length === 4) return bytes.join(".");
  return `${ipv6Text([...bytes.slice(0, 8), 0, 0, 0, 0, 0, 0, 0, 0])}/64`;
}

function inNetwork(bytes: Bytes, network: Network): boolean {
  if (bytes.length !== network.bytes.length) return false;
  for (let bit = 0; bit < network.bits; bit++) {
    const mask = 0x80 >> bit % 8;
    if (((bytes[bit >> 3] ?? 0) & mask) !== ((network.bytes[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * The networks of DASHBOARD_TRUSTED_PROXIES' value: addresses or networks separated by commas
 * (`10.0.0.0/8, 2001:db8::/32, 192.0.2.7`). Throws naming the variable and the entry that is
 * neither, since a proxy left out by a typo would make every client its proxy.
 */
export function parseTrustedProxies(value: string | undefined): Network[] {
  const entries = (value ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  return entries.map((entry) => {
    const [address, bitsText, extra] = entry.split("/");
    const parsed = extra === undefined ? addressBytes(address ?? "") : null;
    const bytes = parsed && unmapped(parsed);
    const bits = bitsText === undefined ? (bytes?.length ?? 0) * 8 : Number(bitsText);
    if (!bytes || !/^\d{0,3}$/.test(bitsText ?? "") || bits > bytes.length * 8 || bitsText === "") {
      throw new Error(
        `DASHBOARD_TRUSTED_PROXIES: "${entry}" is not an IP address or network; write addresses ` +
          `or networks separated by commas, such as "10.0.0.0/8, 2001:db8::/32", or leave it unset.`,
      );
    }
    return { bytes, bits };
  });
}

let fromEnvironment: Network[] | undefined;

/** DASHBOARD_TRUSTED_PROXIES' networks, read once (the process's environment does not change). */
export function trustedProxies(): Network[] {
  fromEnvironment ??= parseTrustedProxies(process.env.DASHBOARD_TRUSTED_PROXIES);
  return fromEnvironment;
}

/**
 * The sign-in throttle's client key for a request's `X-Forwarded-For` (see the module's comment):
 * the last entry that is not one of the `trusted` proxies, as {@link clientOf} counts it; the
 * first entry when they all are; "direct" with no header (Next.js writes the connection's
 * address into it, so only a request that did not come over a socket has none).
 */
export function clientKey(forwardedFor: string | null | undefined, trusted: Network[] = []): string {
  const entries = (forwardedFor ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) return "direct";
  const client = entries.findLast((entry) => {
    const bytes = addressBytes(entry);
    return !bytes || !trusted.some((network) => inNetwork(unmapped(bytes), network));
  });
  return clientOf(client ?? entries[0] ?? "");
}
