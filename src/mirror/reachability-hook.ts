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
 * The question is "do the wants reach anything that no ref reaches?", and it is answered with
 * the mirror's reachability bitmaps (written on every mirror update, git/mirror-cache.ts
 * `maintainMirror`): one `rev-list --count --objects --use-bitmap-index <wants> --not --all`
 * computes (objects the wants reach) AND-NOT (objects any ref reaches) from the bitmaps, walking
 * only what the bitmaps do not cover (commits fetched since the last repack). Its cost does not
 * grow with the size of the repository or with how old the wanted objects are — which matters
 * for partial clones, whose lazy fetches ask for blobs by id, many requests per checkout or
 * `log -p`. `--all` includes the hidden keep refs (refs/syncline/keep/*), so tips replaced by a
 * recent update still count as reachable.
 *
 * A count of 0 proves every want reachable (with or without bitmaps: a walk can only
 * over-count, never under-count), and the pack is made. Anything else goes to the exact check,
 * which is also what runs when there are no bitmaps at all (a walk marks blobs and trees of the
 * refs' history as uninteresting only at the boundary, so it over-counts them):
 *  - commits: `rev-list <wants> --not --all` must print nothing;
 *  - tags, trees, blobs: must appear in `rev-list --objects --no-walk --all` (tips' trees) or,
 *    failing that, the full `rev-list --objects --all` walk;
 *  - anything missing or of unknown type: refused.
 * With fresh bitmaps the exact check only ever confirms a refusal.
 *
 * The common case costs no git process: the server passes the mirror's branch and tag tips, read
 * from its ref files just before starting upload-pack, in SYNCLINE_MIRROR_TIPS; when every want is
 * one of them (a clone, a fetch of what was advertised) they are reachable by definition, and the
 * hook goes straight to pack-objects. A tip replaced since that read is kept by its keep ref, so
 * this admits nothing the check above would refuse. Anything else takes the check above.
 *
 * A refusal prints one line to stderr, which upload-pack relays to the client as `remote: …`,
 * and exits non-zero, so no pack is produced.
 *
 * Smart HTTP is stateless: a client lists refs, then asks for them in a later request. A tip
 * replaced by a mirror update in between stays reachable through its keep ref (pruned after
 * `mirror_keep_minutes`), so that clone completes; after that the old tip is refused like any
 * other object no ref reaches.
 */

const SCRIPT = String.raw`
syncline_reachable() {
  input=$(cat) || exit 1
  if [ -n "$SYNCLINE_MIRROR_TIPS" ] && syncline_all_tips "$input"; then
    printf '%s\n' "$input" | "$@"
    return
  fi
  # Fail closed: without the list of wants nothing below would be checked.
  wants=$(printf '%s\n' "$input" | sed -n -e '/^--not$/q' -e '/^-/d' -e '/^$/d' -e p) || exit 1
  outside=0
  if [ -n "$wants" ]; then
    outside=$(printf '%s\n' "$wants" | git rev-list --count --objects --use-bitmap-index --stdin --not --all) || exit 1
  fi
  if [ "$outside" != 0 ]; then
    typed=$(printf '%s\n' "$wants" | git cat-file --batch-check='%(objecttype) %(objectname)') || exit 1
    odd=$(printf '%s\n' "$typed" | awk '$1 != "commit" && $1 != "tag" && $1 != "tree" && $1 != "blob" { print $1; exit }') || exit 1
    if [ -n "$odd" ]; then
      echo "syncline: refusing to send $odd: not available on this mirror" >&2
      exit 1
    fi
    commits=$(printf '%s\n' "$typed" | awk '$1 == "commit" { print $2 }') || exit 1
    if [ -n "$commits" ]; then
      bad=$(printf '%s\n' "$commits" | git rev-list --stdin -n 1 --not --all) || exit 1
      if [ -n "$bad" ]; then
        echo "syncline: refusing to send $bad: not reachable from any branch or tag of this mirror" >&2
        exit 1
      fi
    fi
    others=$(printf '%s\n' "$typed" | awk '$1 != "commit" { printf "%s ", $2 }') || exit 1
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
syncline_all_tips() {
  # Shell builtins only: every want (lines before --not that are not options) is a listed tip.
  while IFS= read -r line; do
    case "$line" in
      --not) return 0 ;;
      -*|'') continue ;;
    esac
    case " $SYNCLINE_MIRROR_TIPS " in
      *" $line "*) ;;
      *) return 1 ;;
    esac
  done <<SYNCLINE_EOF
$1
SYNCLINE_EOF
  return 0
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
