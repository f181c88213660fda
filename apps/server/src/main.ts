#!/usr/bin/env node
import { messageOf } from "@distkv/rpc";
import { ConfigError, resolveConfig } from "./config.js";
import { FlagError, parseFlags } from "./flags.js";
import { createLogger } from "./log.js";
import { DistKVNode, StartupError } from "./node.js";

async function main(argv: readonly string[]): Promise<number> {
  let node: DistKVNode;
  try {
    const raw = await parseFlags(argv);
    const config = resolveConfig(raw);
    const log = createLogger(config.logLevel, { node: config.nodeId });
    node = await DistKVNode.start(config, log);
    log.info("started", {
      address: node.address,
      dataDir: config.dataDir,
      replicas: config.replicas,
      readQuorum: config.readQuorum,
      writeQuorum: config.writeQuorum,
      seeds: config.seedNodes.join(","),
    });
    // Tests and scripts wait for this line.
    process.stdout.write(`distkv-server ${config.nodeId} listening on ${node.address}\n`);
    await new Promise<void>((resolve) => {
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          log.warn("second signal: exiting without a graceful shutdown", { signal });
          process.exit(130);
        }
        log.info("shutting down", { signal });
        node.stop().then(resolve, (e) => {
          log.error("shutdown failed", { error: messageOf(e) });
          process.exitCode = 1;
          resolve();
        });
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      // A decommissioned node exits once it has handed its data over and left.
      node.left.then(() => {
        log.info("left the cluster: shutting down");
        node.stop().then(resolve, (e) => {
          log.error("shutdown failed", { error: messageOf(e) });
          process.exitCode = 1;
          resolve();
        });
      });
    });
    log.info("stopped");
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof FlagError || e instanceof StartupError) {
      process.stderr.write(`distkv-server: ${e.message}\n`);
      if (e instanceof FlagError) process.stderr.write("Run distkv-server --help for usage.\n");
      return 2;
    }
    process.stderr.write(`distkv-server: unexpected error: ${messageOf(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
