/**
 * What an upload-pack request asks for, read from its pkt-lines: whether it is a complete
 * clone-like request the mirror's answer cache may serve (see pack-cache.ts).
 */

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** v2 `fetch` arguments a cacheable request may carry besides `want` and `done` (no `have`, no `want-ref`). */
const V2_CACHEABLE_ARG = /^(thin-pack|no-progress|include-tag|ofs-delta|deepen-relative|(shallow|deepen|deepen-since|deepen-not|filter) \S+)$/;
/** v0 lines a cacheable request may carry besides `want` and `done`. */
const V0_CACHEABLE_LINE = /^(shallow|deepen|deepen-since|deepen-not|filter) \S+$/;

/** The pkt-lines of a request body (flush/delim as '0000'/'0001'), or null when malformed. */
function pktLines(body: Buffer): string[] | null {
  const lines: string[] = [];
  let i = 0;
  while (i < body.length) {
    if (i + 4 > body.length) return null;
    const head = body.toString('latin1', i, i + 4);
    if (!/^[0-9a-f]{4}$/.test(head)) return null;
    const len = parseInt(head, 16);
    if (len < 4) {
      lines.push(head);
      i += 4;
      continue;
    }
    if (i + len > body.length) return null;
    lines.push(body.toString('latin1', i + 4, i + len).replace(/\n$/, ''));
    i += len;
  }
  return lines;
}

/**
 * Whether an upload-pack request may be answered from (and stored in) the cache: a complete
 * clone-like request — every want one of the mirror's current branch or tag tips, no haves,
 * `done` — in protocol v2 (`command=fetch`) or v0. Exactly the requests the reachability hook
 * lets through without a check (every want is a tip), so the cache never answers one the hook
 * would refuse. Anything else (negotiation with haves, wants by id such as a partial clone's lazy
 * fetches, `want-ref`, an unknown argument) runs git as usual.
 */
export function cacheableRequest(body: Buffer, tips: ReadonlySet<string>, v2: boolean): boolean {
  const lines = pktLines(body);
  if (!lines) return false;
  let wants = 0;
  const want = (oid: string | undefined): boolean => {
    if (!oid || !OID.test(oid) || !tips.has(oid)) return false;
    wants++;
    return true;
  };
  if (v2) {
    // command=fetch, capabilities, delim, arguments, flush; nothing after.
    if (lines[0] !== 'command=fetch') return false;
    const delim = lines.indexOf('0001');
    if (delim < 0 || lines.indexOf('0000', delim + 1) !== lines.length - 1) return false;
    if (!lines.slice(1, delim).every((l) => /^[a-z0-9-]+(=\S*)?$/.test(l) && !l.startsWith('000'))) return false;
    const args = lines.slice(delim + 1, -1);
    if (args[args.length - 1] !== 'done') return false;
    for (const arg of args.slice(0, -1)) {
      if (arg.startsWith('want ')) {
        if (!want(arg.slice(5))) return false;
      } else if (!V2_CACHEABLE_ARG.test(arg)) return false;
    }
    return wants > 0;
  }
  // v0 (stateless): want lines (capabilities after the first id), shallow/deepen/filter, flush, done.
  const flush = lines.indexOf('0000');
  if (flush < 1 || lines.length !== flush + 2 || lines[flush + 1] !== 'done') return false;
  for (const [i, line] of lines.slice(0, flush).entries()) {
    if (line.startsWith('want ')) {
      const [, oid, ...caps] = line.split(' ');
      if ((i > 0 && caps.length > 0) || !want(oid)) return false;
    } else if (!V0_CACHEABLE_LINE.test(line)) return false;
  }
  return wants > 0;
}
