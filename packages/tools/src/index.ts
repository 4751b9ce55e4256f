// @gossip-witness/tools: the subcommands of the `gossip-witness` command that only the simulator and
// the local launcher need. The node package's CLI loads this module (src/cli/tools.ts) when one of
// them is run; their sources stay in the repository's src/ (cli/simulate.ts, cli/launch.ts, sim/,
// launcher/), and this package's build bundles them with the node package's modules left as
// imports of gossip-witness/internal/* (one format core, not copies).
export { registerSimulate } from '../../../src/cli/simulate.js';
export { registerLaunch } from '../../../src/cli/launch.js';
