/**
 * @mil/weight-transfer: attention→Mamba initialisation of hybrid students, the reference's layer schedules,
 * progressive re-initialisation, and the ablation helpers (random init, dropped layers).
 */
export { WeightTransferError, type WeightTransferErrorCode } from './errors';
export { layerSchedule, stepwiseOrder, type LayerSchedule, type LayerScheduleSpec, type AttentionFraction } from './layer-schedule';
export { makeHybridConfig } from './make-hybrid-config';
export { studentWeightSpecs, studentParamCount } from './student-specs';
export { initStudentFromTeacher, MAMBA_LAYER_INITS, type MambaLayerInit, type StudentInitOptions } from './init-student';
export { progressiveReinit, type ProgressiveReinitOptions } from './progressive-reinit';
export { dropLayers, type DroppedModel } from './drop-layers';
export { DT_MIN, DT_MAX, DT_FLOOR, A_INIT_RANGE, inverseSoftplus, type DtBiasMode } from './seeded-init';
export type { WeightMap } from './tensor-source';
