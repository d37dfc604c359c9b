export * from './elementwise';
export * from './linalg';
export * from './reduce';
export * from './shape-ops';
export * from './nn';
export * from './contrib';
