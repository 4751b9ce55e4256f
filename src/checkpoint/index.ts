export * from './checkpoint.js';
export * from './signed.js';
