import type { ConflictPolicy } from "@distkv/quorum";
import { InvalidSimulationOptionsError } from "./errors.js";
import { DEFAULT_NODES, DEFAULT_OPERATIONS } from "./options.js";

/** The CLI's arguments. */
export interface CliArgs {
  seeds: number;
  from: number;
  ops: number;
  nodes: number;
  policy: ConflictPolicy;
  sync: boolean;
  faults: boolean;
  verbose: boolean;
  help: boolean;
}

function integer(flag: string, raw: string | undefined, min: number): number {
  if (raw === undefined) throw new InvalidSimulationOptionsError(`${flag} needs a value`);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
    throw new InvalidSimulationOptionsError(`${flag} must be an integer >= ${min}, got ${raw}`);
  }
  return n;
}

/** Parses the CLI's arguments; throws InvalidSimulationOptionsError naming the bad one. */
export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    seeds: 10,
    from: 1,
    ops: DEFAULT_OPERATIONS,
    nodes: DEFAULT_NODES,
    policy: "siblings",
    sync: true,
    faults: true,
    verbose: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    // `--flag=value` and `--flag value` both work.
    const eq = raw.indexOf("=");
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = () => (eq > 0 ? raw.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case "--":
        break;
      case "--seeds":
        args.seeds = integer(flag, value(), 1);
        break;
      case "--from":
        args.from = integer(flag, value(), 0);
        break;
      case "--ops":
        args.ops = integer(flag, value(), 1);
        break;
      case "--nodes":
        args.nodes = integer(flag, value(), 2);
        break;
      case "--policy": {
        const p = value();
        if (p !== "siblings" && p !== "lww") {
          throw new InvalidSimulationOptionsError(`--policy must be siblings or lww, got ${p}`);
        }
        args.policy = p;
        break;
      }
      case "--no-sync":
        args.sync = false;
        break;
      case "--no-faults":
        args.faults = false;
        break;
      case "--verbose":
        args.verbose = true;
        break;
      case "--help":
      case "-h":
        args.help = true;
        break;
      default:
        throw new InvalidSimulationOptionsError(`unknown argument ${raw}`);
    }
  }
  return args;
}
