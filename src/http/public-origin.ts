/*
 * The origin written into absolute URLs the API returns (playback URLs). A request's Host and
 * X-Forwarded-* headers are chosen by whoever sends the request, so they are used only when they name
 * a host this deployment answers to; anything else gets relative URLs, which are always right for the
 * client that asked (it resolves them against the URL it used).
 */

export interface OriginFacts {
  /** PUBLIC_BASE_URL (validated http(s) URL without a trailing slash): wins when set. */
  configured: string | undefined;
  /** `request.protocol`: the socket's, or X-Forwarded-Proto from a trusted proxy. */
  protocol: string;
  /** `request.host`: the Host header, or X-Forwarded-Host from a trusted proxy. */
  host: string;
}

export interface HostPort {
  /** Lower-cased name, IPv4 address or bracketed IPv6 address. */
  hostname: string;
  port: string | undefined;
}

const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::([1-9][0-9]{0,4}))?$/i;

/** `host[:port]` as in a Host header (IPv6 in brackets), or undefined when it is anything else. */
export function parseHostPort(value: string): HostPort | undefined {
  const match = HOST_PORT.exec(value);
  if (!match) return undefined;
  const port = match[2];
  if (port !== undefined && Number(port) > 65_535) return undefined;
  return { hostname: match[1]!.toLowerCase(), port };
}

/**
 * `configured` when set; else `<protocol>://<host>` when the protocol is http(s) and the host matches
 * an entry of `allowedHosts` (`name` matches any port, `name:port` that port only); else '' (relative).
 */
export function publicBaseUrl(facts: OriginFacts, allowedHosts: readonly string[]): string {
  if (facts.configured) return facts.configured;
  const protocol = facts.protocol.toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') return '';
  const host = parseHostPort(facts.host);
  if (!host) return '';
  const allowed = allowedHosts.some((entry) => {
    const rule = parseHostPort(entry);
    return rule?.hostname === host.hostname && (rule.port === undefined || rule.port === host.port);
  });
  if (!allowed) return '';
  return `${protocol}://${host.hostname}${host.port === undefined ? '' : `:${host.port}`}`;
}
