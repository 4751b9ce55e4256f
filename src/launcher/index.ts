// The local network launcher: one network config -> a local log and N witness processes.
export { launch, freePort, FORK_HEADER, type LaunchOptions, type LaunchedNetwork, type LaunchedWitness, type LaunchedLog } from './launcher.js';
export { parseNetworkConfig, NetworkConfigError, type NetworkConfig, type NetworkLog, type NetworkWitness } from './network.js';
