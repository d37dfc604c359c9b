export { FanoutError, type FanoutErrorCode } from './errors';
export { writeTokenCorpus, readTokenCorpus, type TokenCorpusRef } from './token-corpus';
export { planShards, shardFileName, type ShardJob, type TeacherSignalSettings } from './shard-plan';
export { runTeacherShard, type ShardResult } from './teacher-shard';
export { writeManifest, verifyManifest, MANIFEST_FILE, type TeacherSignalManifest } from './manifest';
export { runShardsOnQueue, connectRedis, DEFAULT_QUEUE_NAME, type FanoutProgress, type QueueRunOptions } from './queue';
export { startShardWorker, WORKER_RUN_OPTIONS_ENV, type ShardWorkerOptions } from './worker';
export { runTeacherSignal, type TeacherSignalRunOptions } from './teacher-signal';
export { startLocalRedis, spawnWorkerProcess, killWorkerGroup, type WorkerProcess } from './local-cluster';
