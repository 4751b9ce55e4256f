// The result of one simulator run and of a sweep: the contract between the engines (model mode in
// src/sim/model/, live mode in src/sim/live/) and the reports (src/sim/report/). JSON-serialisable
// (bigints are not used here). Every result carries what is needed to reproduce it.

export interface Provenance {
  /** package.json version of gossip-witness. */
  readonly version: string;
  /** git commit when known (GIT_COMMIT env or `git rev-parse HEAD`), else null. */
  readonly commit: string | null;
  readonly seed: number;
  readonly mode: 'model' | 'live';
  /** Path of the scenario file (as given) and its full parsed content, after defaults. */
  readonly scenarioFile: string | null;
  readonly scenario: unknown;
  /** sha256 of the parsed scenario's canonical JSON (keys sorted): what was run, independent of spelling. */
  readonly scenarioHash?: string;
  /** ISO time the run started (wall clock; not part of the simulated outcome). */
  readonly startedAt: string;
  /** Node.js version, platform/arch. */
  readonly runtime: string;
  /** The command line that produced the result, when run from the CLI (reports show it to rerun). */
  readonly command?: string;
}

export interface RunResult {
  readonly provenance: Provenance;
  readonly nodes: number;
  readonly logs: number;
  /** Simulated (model) or wall (live) duration of the run, in ms. */
  readonly durationMs: number;
  /** Time of the fork (ms from start) or null when the scenario has no adversarial log. */
  readonly forkAtMs: number | null;
  readonly detection: {
    /** ms from fork to the first honest node holding verified evidence; null if never. */
    readonly firstMs: number | null;
    /** ms from fork to every honest node holding evidence; null if some never did. */
    readonly allMs: number | null;
    /** Per honest node: ms from fork to evidence (null: never). */
    readonly perNodeMs: readonly (number | null)[];
    /** Fraction of honest nodes that held evidence by the end. */
    readonly fractionDetected: number;
    /** P(every honest node detected within T) for the listed T values (ms) — 0 or 1 for one run. */
    readonly withinMs: Readonly<Record<string, number>>;
    /** Wilson 95% interval of fractionDetected (honest nodes as trials). */
    readonly fractionDetectedCI?: readonly [number, number];
  };
  /** Non-witness gossip nodes (network.monitors): ms from the fork to evidence per node (null: never). */
  readonly monitors?: { readonly count: number; readonly fractionDetected: number; /** Wilson 95% interval (monitors as trials). */ readonly fractionDetectedCI: readonly [number, number]; readonly perNodeMs: readonly (number | null)[]; /** Branch each monitor is shown (0 = A; adversary.branchB.monitors). */ readonly branch?: readonly number[] };
  /**
   * Several forked logs (adversary.forks): per forked log, when it forked (ms from start, null: never)
   * and detection of that log's fork among honest witnesses, in ms from that log's own fork.
   */
  readonly forks?: readonly { readonly log: number; readonly forkAtMs: number | null; readonly firstMs: number | null; readonly allMs: number | null; readonly fractionDetected: number; /** Wilson 95% interval (honest nodes as trials). */ readonly fractionDetectedCI: readonly [number, number]; readonly perNodeMs: readonly (number | null)[] }[];
  /** Event trace lines (--trace): fork, evidence, client decisions. */
  readonly trace?: readonly string[];
  readonly clients: {
    readonly total: number;
    /** Clients that accepted a checkpoint of the branch they were not supposed to see... precisely: accepted a forked (minority-branch) checkpoint under their k-of-n policy before refusing on evidence. */
    readonly falseAccepts: number;
    readonly falseAcceptRate: number;
    /** Wilson 95% interval of falseAcceptRate (clients as trials). */
    readonly falseAcceptRateCI?: readonly [number, number];
    /** Per client (model mode), columns: population index, branch shown (0 = A), colluders among its n, ms from the fork to its first accept of a post-fork checkpoint and to learning evidence (null: never), and whether it falsely / forked-accepted (0/1). */
    readonly perClient?: {
      readonly population: readonly string[];
      readonly branch: readonly number[];
      readonly trustedColluders: readonly number[];
      readonly acceptMs: readonly (number | null)[];
      /** ms from the fetch that gave that first post-fork accept to the accept: fetch.delay plus, with fetch.latency, the k-th cosigning answer's round trip (null: never accepted). */
      readonly acceptLatencyMs?: readonly (number | null)[];
      readonly detectMs: readonly (number | null)[];
      readonly falseAccept: readonly number[];
      readonly forkedAccept: readonly number[];
    };
    /**
     * When a population states the logs it follows (clients.populations[].logs): one entry per
     * (client, log it follows), ms counted from that log's own fork (null: never, or the log never
     * forked). perClient and the counts above are then the any-log aggregates (branch: the highest
     * shown on any log; accept and detect: the earliest; false / forked accept: on any log).
     */
    readonly perClientLog?: {
      readonly client: readonly number[];
      readonly log: readonly number[];
      readonly branch: readonly number[];
      readonly acceptMs: readonly (number | null)[];
      readonly acceptLatencyMs: readonly (number | null)[];
      readonly detectMs: readonly (number | null)[];
      readonly falseAccept: readonly number[];
      readonly forkedAccept: readonly number[];
    };
    /** With perClientLog: Wilson 95 % intervals of the any-log rates (clients as trials; falseAcceptRateCI above is the third). */
    readonly anyLog?: { readonly forkedAcceptRateCI: readonly [number, number]; readonly protected: number; readonly protectedFractionCI: readonly [number, number] };
    /** Per log some client follows (with perClientLog): its clients, rates with Wilson 95 % intervals (clients following it as trials), and time quantiles from its fork. */
    readonly perLog?: readonly {
      readonly log: number;
      readonly forkAtMs: number | null;
      readonly clients: number;
      readonly falseAccepts: number;
      readonly falseAcceptRate: number;
      readonly falseAcceptRateCI: readonly [number, number];
      readonly forkedAccepts: number;
      readonly forkedAcceptRate: number;
      readonly forkedAcceptRateCI: readonly [number, number];
      readonly protected: number;
      readonly protectedFraction: number;
      readonly protectedFractionCI: readonly [number, number];
      readonly timeToAcceptP50Ms: number | null;
      readonly timeToAcceptP90Ms: number | null;
      readonly timeToDetectP50Ms: number | null;
      readonly timeToDetectP90Ms: number | null;
    }[];
  };
  readonly traffic: {
    readonly messagesPerNodePerHour: number;
    readonly bytesPerNodePerHour: number;
    /** Fraction of (message, honest node) deliveries that happened. */
    readonly deliveryRatio: number;
    /** ms for a cosigned checkpoint to reach every node: p50/p99 over checkpoints. */
    readonly propagationP50Ms: number | null;
    readonly propagationP99Ms: number | null;
  };
  /** The verified evidence, base64 of the gossip-witness/evidence/v1 encoding (first one found), or null. */
  readonly evidence: string | null;
  /** The logs' vkeys (Ed25519 note keys), so the evidence above can be verified (verifyEvidence). */
  readonly logVkeys?: readonly string[];
  /** Model mode: the adversary's make-up and counts behind the metrics above. */
  readonly model?: {
    readonly honest: number;
    readonly colluding: number;
    readonly droppers: number;
    readonly attackers: number;
    /** Witnesses shown branch B. */
    readonly branchB: number;
    /** Clients that accepted a branch-B checkpoint with k cosignatures before learning evidence, whether or not branch A also had a quorum (falseAccepts counts those where it had). */
    readonly forkedAccepts: number;
    /** Distinct evidence objects made during the run. */
    readonly evidenceCount: number;
    readonly signatures: 'real' | 'memoised' | 'modelled';
    /** Gossip version 2: bytes sent, all nodes together, by exchange frame type (and the items a WANT was answered with). */
    readonly exchange?: { readonly checkpointBytes: number; readonly cosigsBytes: number; readonly haveBytes: number; readonly wantBytes: number; readonly itemsAnsweringWant: number };
  };
  /** Live mode: the make-up behind the metrics (as model above). */
  readonly live?: {
    readonly nodes: number;
    readonly branchB: number;
    readonly pushed: number;
    /** As model.forkedAccepts. */
    readonly forkedAccepts: number;
    /** How late the forked checkpoints were signed after the scenario's forkAt (a busy machine delays the log's timers); forkAtMs above is when they were. */
    readonly forkLateMs: number | null;
    /** 1-minute load average of the machine at the end of the run. */
    readonly loadAverage: number;
  };
  readonly perf: { readonly wallMs: number; readonly peakRssBytes: number; readonly signaturesVerified: number; readonly events: number };
  /** How this run approximated the scenario (live mode: what loopback processes cannot reproduce). */
  readonly notes?: readonly string[];
}

export interface SweepPoint {
  /** The swept parameter's value at this point. */
  readonly value: number;
  readonly runs: readonly RunResult[];
  /** Mean and 95% confidence interval (t-distribution over seeds) of each summary metric. */
  readonly summary: Readonly<Record<string, { mean: number; lo: number; hi: number; n: number }>>;
}

export interface SweepResult {
  readonly provenance: Omit<Provenance, 'seed'> & { readonly seeds: readonly number[] };
  /** Dotted path of the swept scenario parameter, e.g. "network.nodes" or "adversary.fraction". */
  readonly parameter: string;
  readonly points: readonly SweepPoint[];
}
