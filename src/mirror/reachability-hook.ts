/**
 * Keeps `git upload-pack` from sending objects that no branch or tag of the mirror reaches.
 *
 * With protocol v0, upload-pack itself refuses unadvertised wants (our config leaves
 * `uploadpack.allowAnySHA1InWant` off and allows only reachable SHA-1s). Protocol v2 — the default
 * of every client since git 2.26 — does not: "wants can be anything and are not limited to
 * advertised objects", so any object still in the object store (a commit force-pushed away
 * upstream, a deleted branch, until `gc` prunes them) can be fetched by anyone who knows its id.
 * For a mirror that is exactly what must not happen: rewriting history to drop a leaked secret
 * has to drop it from the mirror's clients too.
 *
 * The check runs as `uploadpack.packObjectsHook` (honoured only from protected config — our
 * env-supplied config counts, the repository's own config does not). upload-pack runs the hook
 * instead of `git pack-objects`, appending the pack-objects command line; the hook's stdin is the
 * revision list (`--shallow <oid>` lines, wants, `--not`, haves). The hook checks every want and
 * then runs pack-objects with the same input, so the pack, and git's own negotiation, are
 * unchanged.
 *
 * Fast path (every ordinary clone and fetch: the wants are branch and tag tips or their
 * ancestors): one `rev-list --objects <wants> --not --all` that prints nothing. Only when it does
 * print something are the wants examined one by one:
 *  - commits: `rev-list <wants> --not --all` must print nothing;
 *  - tags, trees, blobs (partial-clone backfill asks for blobs by id): must appear in
 *    `rev-list --objects --no-walk --all` (tips' trees) or, failing that, the full
 *    `rev-list --objects --all` walk;
 *  - anything missing or of unknown type: refused.
 *
 * A refusal prints one line to stderr, which upload-pack relays to the client as `remote: …`,
 * and exits non-zero, so no pack is produced.
 *
 * One consequence, shared with git http-backend under v0: smart HTTP is stateless, so a client
 * that listed refs just before a mirror update deleted (or force-moved) a branch, and asks for
 * the old tip a moment later, is refused and has to retry. Fast-forwards are fine (the old tip
 * stays reachable); transfers already under way are unaffected.
 */

const SCRIPT = String.raw`
syncline_reachable() {
  input=$(cat) || exit 1
  wants=$(printf '%s\n' "$input" | sed -n -e '/^--not$/q' -e '/^-/d' -e '/^$/d' -e p)
  if [ -n "$wants" ]; then
    # -n 1 bounds the output when a want is not reachable: one commit and its tree at most.
    unreached=$(printf '%s\n' "$wants" | git rev-list --objects -n 1 --stdin --not --all) || exit 1
  else
    unreached=
  fi
  if [ -n "$unreached" ]; then
    typed=$(printf '%s\n' "$wants" | git cat-file --batch-check='%(objecttype) %(objectname)') || exit 1
    odd=$(printf '%s\n' "$typed" | awk '$1 != "commit" && $1 != "tag" && $1 != "tree" && $1 != "blob" { print $1; exit }')
    if [ -n "$odd" ]; then
      echo "syncline: refusing to send $odd: not available on this mirror" >&2
      exit 1
    fi
    commits=$(printf '%s\n' "$typed" | awk '$1 == "commit" { print $2 }')
    if [ -n "$commits" ]; then
      bad=$(printf '%s\n' "$commits" | git rev-list --stdin -n 1 --not --all) || exit 1
      if [ -n "$bad" ]; then
        echo "syncline: refusing to send $bad: not reachable from any branch or tag of this mirror" >&2
        exit 1
      fi
    fi
    others=$(printf '%s\n' "$typed" | awk '$1 != "commit" { printf "%s ", $2 }')
    if [ -n "$others" ]; then
      missing=$(git rev-list --objects --no-walk --all | syncline_unseen "$others")
      if [ -n "$missing" ]; then
        missing=$(git rev-list --objects --all | syncline_unseen "$missing")
      fi
      if [ -n "$missing" ]; then
        echo "syncline: refusing to send $(echo $missing | cut -d' ' -f1): not reachable from any branch or tag of this mirror" >&2
        exit 1
      fi
    fi
  fi
  printf '%s\n' "$input" | "$@"
}
syncline_unseen() {
  awk -v wanted="$1" '
    BEGIN { n = split(wanted, list, " "); for (i = 1; i <= n; i++) if (!(list[i] in want)) { want[list[i]] = 1; left++ } }
    left > 0 && ($1 in want) { delete want[$1]; left--; if (left == 0) exit }
    END { for (id in want) printf "%s ", id }'
}
syncline_reachable`;

/** The `uploadpack.packObjectsHook` value (a shell command; upload-pack appends the pack-objects argv). */
export const REACHABILITY_HOOK = SCRIPT.trim();
