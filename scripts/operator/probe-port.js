// probe-port.js: run where `pulumi up` runs (a command.local step), never on
// a host. Connects to ADDRESS:PORT over TCP and fails, naming the host and
// what to do, when nothing answers within TIMEOUT seconds. actuated's control
// plane reaches each agent on port 443 of its public address
// (docs.actuated.com/install-agent, "Other considerations"): an agent behind
// a firewall or NAT enrolls and then never gets a job.
//
// Settings (environment): HOST_NAME, ADDRESS, PORT (default 443), TIMEOUT (seconds, default 10).
// Run by hand: HOST_NAME=arm-1 ADDRESS=203.0.113.10 node scripts/operator/probe-port.js
"use strict";
const net = require("net");
const host = process.env.HOST_NAME || "the host";
const address = process.env.ADDRESS || "";
const port = Number(process.env.PORT || 443);
const timeout = Number(process.env.TIMEOUT || 10) * 1000;
const fail = why => {
    process.stderr.write(`host ${host}: ${address}:${port} ${why} from where pulumi runs. actuated's control plane reaches the agent there, ` +
        `so the host would enroll and never get a job. Open TCP ${port} from the internet to the host (its firewall, the provider's), ` +
        `or for a host behind NAT expose the agent as docs.actuated.com/expose-agent describes and set agent.probeAgentPort: false.\n`);
    process.exit(1);
};
if (!address) {
    fail("has no address");
}
const socket = net.connect({ host: address, port, timeout });
socket.once("connect", () => {
    process.stdout.write(`host ${host}: ${address}:${port} answers\n`);
    socket.destroy();
    process.exit(0);
});
socket.once("timeout", () => fail(`did not answer within ${timeout / 1000}s`));
socket.once("error", e => fail(`refused the connection (${e.code || e.message})`));
