// The local network launcher: one network config -> a local log and N witness processes.
export { launch, prepareNetwork, witnessKeyFiles, logKeyName, COMPOSE_PORTS, freePort, FORK_HEADER, type Layout, type PrepareOptions, type PreparedNetwork, type PreparedLog, type LaunchOptions, type LaunchedNetwork, type LaunchedWitness, type LaunchedLog } from './launcher.js';
export { parseNetworkConfig, witnessKeyTypes, WITNESS_KEY_TYPES, NetworkConfigError, type NetworkConfig, type NetworkLog, type NetworkWitness, type WitnessKeyType } from './network.js';
export { clientPolicy, type ClientPolicy, type ClientPolicyMember, type ClientPolicyOptions, type PolicyWitnessInput } from './policy.js';
export { parseCompose, loadCompose, ComposeError, type ComposeTopology } from './compose.js';
