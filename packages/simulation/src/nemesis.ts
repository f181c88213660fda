import { CALM_LINK, type SimNetwork } from "./network.js";
import type { SimNode } from "./node.js";
import { between, pick, type SeededRandom } from "./random.js";
import type { Scheduler } from "./scheduler.js";

/** Faults injected in a run, for its figures. */
export interface FaultCounters {
  /** Power losses of a node (process and unsynced data gone). */
  crashes: number;
  restarts: number;
  /** Partitions started (a group of nodes cut off from the rest). */
  partitions: number;
  /** Periods of bad weather on every link (loss, duplication, long delays). */
  weather: number;
  /** Single directed links made lossy and slow for a while. */
  badLinks: number;
  /** Write-ahead-log fsyncs failed with an I/O error (the node is restarted 0.5-5 s later). */
  diskFaults: number;
}

export interface NemesisInit {
  readonly scheduler: Scheduler;
  readonly random: SeededRandom;
  readonly network: SimNetwork;
  readonly nodes: readonly SimNode[];
  /** Most nodes down at once. */
  readonly maxDown: number;
  /** Called when a node fails to come back (its database did not recover). */
  readonly onStartFailure: (node: SimNode, error: unknown) => void;
  readonly log: ((line: string) => void) | undefined;
}

/** How often each kind of fault is picked (relative weights) and how often the nemesis strikes. */
export interface FaultMix {
  readonly crash: number;
  readonly partition: number;
  readonly weather: number;
  readonly badLink: number;
  readonly diskFault: number;
  readonly quiet: number;
  /** Largest pause between two strikes, ms (each pause is uniform in [0, max]). */
  readonly maxIntervalMs: number;
}

/**
 * Draws a run's fault mix (swarm testing): each kind of fault is left out with probability 0.2
 * and otherwise weighted in [0.2, 1]; the nemesis strikes every 0 to 0.3-3 s. A seed that
 * only partitions, or only crashes, explores those faults far deeper than an even mix would.
 */
export function drawFaultMix(random: SeededRandom): FaultMix {
  const weight = () => (random.chance(0.8) ? 0.2 + 0.8 * random.next() : 0);
  const crash = weight();
  const partition = weight();
  const weather = weight();
  const badLink = weight();
  const diskFault = weight() / 2;
  const none = crash + partition + weather + badLink + diskFault === 0;
  return Object.freeze({
    crash: none ? 1 : crash,
    partition,
    weather,
    badLink,
    diskFault,
    quiet: 0.15,
    maxIntervalMs: between(random, 300, 3000),
  });
}

/**
 * The fault schedule of a run, drawn from its own random stream: the first strike within 200 ms,
 * then one every 0 to 0.3-3 s of simulated time, each picking, by the run's fault mix, one of
 *
 * - crash a node (a power loss; at most `maxDown` down at once), restarted 0.5-8 s later;
 * - partition: cut a random minority of the nodes off for 0.3-6 s;
 * - weather: every link loses up to 30% and duplicates up to 20% of its messages, with delays
 *   up to 300 ms (so messages overtake each other), for 0.5-5 s;
 * - a bad link: one directed link loses half to all of its messages, slowly, for 0.5-5 s;
 * - a disk fault: one of the next few WAL fsyncs of a node fails with an I/O error; its
 *   database then refuses writes until the node is restarted (power-cycled) 0.5-5 s later;
 * - nothing.
 *
 * `heal()` ends everything: every node that is down or has a disk fault is (re)started, and
 * partitions and link faults end.
 */
export class Nemesis {
  readonly counters: FaultCounters = {
    crashes: 0,
    restarts: 0,
    partitions: 0,
    weather: 0,
    badLinks: 0,
    diskFaults: 0,
  };
  private running = false;
  /** Generation of each kind of fault, so an old "end" event does not end a newer fault. */
  private partitionGen = 0;
  private weatherGen = 0;
  private readonly linkGens = new Map<string, number>();
  /** This run's fault mix. */
  readonly mix: FaultMix;

  constructor(private readonly init: NemesisInit) {
    this.mix = drawFaultMix(init.random);
  }

  start(): void {
    this.running = true;
    // The first strike comes early: a seed whose workload is over in a second still sees faults.
    this.scheduleNext(200);
  }

  /** Stops injecting new faults (faults in force stay until `heal`). */
  stop(): void {
    this.running = false;
  }

  /** Restarts every node that is down and ends every network fault. */
  heal(): void {
    const { network, nodes } = this.init;
    this.partitionGen++;
    this.weatherGen++;
    this.linkGens.clear();
    network.heal();
    network.clearLinks();
    network.setDefaultLink(CALM_LINK);
    for (const node of nodes) {
      if (node.state !== "down" && node.needsRestart) {
        node.crash();
        this.log(`power-cycle ${node.id} (disk fault)`);
      }
      if (node.state === "down") this.restart(node);
    }
    this.log("heal: network calm, every node started");
  }

  private log(what: string): void {
    this.init.scheduler.note(what);
    this.init.log?.(`${this.init.scheduler.nowMs}ms nemesis: ${what}`);
  }

  private scheduleNext(maxMs = this.mix.maxIntervalMs): void {
    const { scheduler, random } = this.init;
    scheduler.schedule(between(random, 0, maxMs), undefined, "nemesis", () => {
      if (!this.running) return;
      this.strike();
      this.scheduleNext();
    });
  }

  private strike(): void {
    const m = this.mix;
    const faults: [number, () => void][] = [
      [m.crash, () => this.crash()],
      [m.partition, () => this.partition()],
      [m.weather, () => this.weather()],
      [m.badLink, () => this.badLink()],
      [m.diskFault, () => this.diskFault()],
      [m.quiet, () => {}],
    ];
    let r = this.init.random.next() * faults.reduce((sum, [w]) => sum + w, 0);
    for (const [weight, strike] of faults) {
      r -= weight;
      if (r < 0) {
        strike();
        return;
      }
    }
  }

  private crash(): void {
    const { nodes, random, scheduler, maxDown } = this.init;
    const down = nodes.filter((n) => n.state === "down").length;
    const candidates = nodes.filter((n) => n.state !== "down");
    if (down >= maxDown || candidates.length === 0) return;
    const node = pick(random, candidates);
    node.crash();
    this.counters.crashes++;
    this.log(`crash ${node.id}`);
    scheduler.schedule(between(random, 500, 8000), undefined, "nemesis.restart", () => {
      if (node.state === "down") this.restart(node);
    });
  }

  private diskFault(): void {
    const { nodes, random, scheduler } = this.init;
    const candidates = nodes.filter((n) => n.state === "up" && !n.needsRestart);
    if (candidates.length === 0) return;
    const node = pick(random, candidates);
    const nth = between(random, 1, 5);
    node.injectDiskFault(nth);
    this.counters.diskFaults++;
    this.log(`disk fault ${node.id}: WAL fsync #${nth} from now fails`);
    scheduler.schedule(between(random, 500, 5000), undefined, "nemesis.power-cycle", () => {
      if (node.state === "down" || !node.needsRestart) return;
      node.crash();
      this.counters.crashes++;
      this.log(`power-cycle ${node.id} (disk fault)`);
      this.restart(node);
    });
  }

  private restart(node: SimNode): void {
    this.counters.restarts++;
    this.log(`restart ${node.id}`);
    node.start().catch((e: unknown) => this.init.onStartFailure(node, e));
  }

  private partition(): void {
    const { nodes, random, network, scheduler } = this.init;
    const ids = nodes.map((n) => n.id);
    const size = between(random, 1, Math.max(1, Math.floor(ids.length / 2)));
    const pool = [...ids];
    const cut: string[] = [];
    for (let i = 0; i < size; i++) cut.push(pool.splice(random.int(pool.length), 1)[0]!);
    network.partition([cut, pool]);
    this.counters.partitions++;
    const gen = ++this.partitionGen;
    this.log(`partition [${cut.join(",")}] | [${pool.join(",")}]`);
    scheduler.schedule(between(random, 300, 6000), undefined, "nemesis.heal-partition", () => {
      if (gen !== this.partitionGen) return;
      network.heal();
      this.log("partition healed");
    });
  }

  private weather(): void {
    const { random, network, scheduler } = this.init;
    const maxDelayMs = between(random, 10, 300);
    const conditions = {
      dropRate: random.next() * 0.3,
      duplicateRate: random.next() * 0.2,
      minDelayMs: 1,
      maxDelayMs,
    };
    network.setDefaultLink(conditions);
    this.counters.weather++;
    const gen = ++this.weatherGen;
    this.log(
      `weather drop ${conditions.dropRate.toFixed(2)} dup ${conditions.duplicateRate.toFixed(2)} delay 1-${maxDelayMs}ms`,
    );
    scheduler.schedule(between(random, 500, 5000), undefined, "nemesis.calm", () => {
      if (gen !== this.weatherGen) return;
      network.setDefaultLink(CALM_LINK);
      this.log("weather calm");
    });
  }

  private badLink(): void {
    const { nodes, random, network, scheduler } = this.init;
    const from = pick(random, nodes).id;
    const to = pick(
      random,
      nodes.filter((n) => n.id !== from),
    ).id;
    const conditions = {
      dropRate: 0.5 + random.next() * 0.5,
      duplicateRate: 0,
      minDelayMs: 5,
      maxDelayMs: between(random, 5, 500),
    };
    network.setLink(from, to, conditions);
    this.counters.badLinks++;
    const id = `${from}>${to}`;
    const gen = (this.linkGens.get(id) ?? 0) + 1;
    this.linkGens.set(id, gen);
    this.log(`bad link ${id} drop ${conditions.dropRate.toFixed(2)}`);
    scheduler.schedule(between(random, 500, 5000), undefined, "nemesis.fix-link", () => {
      if (this.linkGens.get(id) !== gen) return;
      network.setLink(from, to, undefined);
      this.log(`link ${id} fixed`);
    });
  }
}
