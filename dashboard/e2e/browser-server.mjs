#!/usr/bin/env node
// One headless Chromium for the browser scripts a pytest worker runs one after another
// (tests/dashboard/browser_server.py): prints its WebSocket endpoint (BROWSER_WS_ENDPOINT for
// the scripts, e2e/chromium.mjs) on one line and runs until its standard input closes. Exits
// (status 1) if the browser goes away, so that the worker starts another for its next test.
import { chromium } from "playwright-core";
import { launchOptions } from "./chromium.mjs";

const server = await chromium.launchServer({ ...launchOptions(), host: "127.0.0.1", port: 0 });
server.on("close", () => process.exit(1));
console.log(server.wsEndpoint());
process.stdin.on("end", async () => {
  server.removeAllListeners("close");
  await server.close();
  process.exit(0);
});
process.stdin.resume();
