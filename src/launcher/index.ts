// The local network launcher: one network config -> a local log and N witness processes.
export { launch, prepareNetwork, logKeyName, COMPOSE_PORTS, freePort, FORK_HEADER, type Layout, type PrepareOptions, type PreparedNetwork, type PreparedLog, type LaunchOptions, type LaunchedNetwork, type LaunchedWitness, type LaunchedLog } from './launcher.js';
export { parseNetworkConfig, NetworkConfigError, type NetworkConfig, type NetworkLog, type NetworkWitness } from './network.js';
export { parseCompose, loadCompose, ComposeError, type ComposeTopology } from './compose.js';
