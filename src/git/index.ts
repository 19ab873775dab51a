/** The git engine's public surface; import from here outside src/git. */
export { type GitAuth, type GitConfigEntry, tokenUsername, httpOrigin, assertSafeRemoteUrl } from './auth.js';
export { buildGitEnv, getGitHome, setGitHome, type GitEnvOptions } from './env.js';
export { GitError, type GitFailureReason } from './git-error.js';
export {
  runGit,
  spawnGit,
  onGitSpawn,
  gitSpawnCount,
  DEFAULT_IDLE_MS,
  DEFAULT_TOTAL_MS,
  type GitTimeouts,
  type GitSpawnOptions,
  type GitRunOptions,
  type GitResult,
  type GitProcess,
  type GitExit,
  type GitSpawnInfo,
} from './runner.js';
export { classifyGitError, toFetchError, type GitFailureCode } from './classify.js';
export {
  ensureMirror,
  openMirror,
  removeMirror,
  maintainMirror,
  isCompleteMirror,
  lastFetchedAt,
  mirrorPath,
  COMPLETE_MARKER,
  MIRROR_REFSPECS,
  KEEP_REFS_PREFIX,
  type MirrorSource,
  type MirrorOptions,
  type MirrorInfo,
  type MirrorResult,
} from './mirror-cache.js';
export { catFile, closeCatFileWorker, closeAllCatFileWorkers, type CatFileAnswer, type CatFileCommand } from './cat-file-worker.js';
export { lsRefsHttp, closeLsRefsAgents } from './smart-http.js';
export {
  hasCommit,
  resolveRef,
  resolveBranch,
  isAncestor,
  isValidRefText,
  defaultBranch,
  commitInfo,
  lsRemote,
  type CommitInfo,
  type GitPerson,
  type RemoteRefs,
} from './refs.js';
export {
  listTree,
  normalizeTreePath,
  DEFAULT_TREE_LIMITS,
  type TreeFile,
  type TreeEntry,
  type TreeLimits,
  type ReadTreeOptions,
} from './tree.js';
