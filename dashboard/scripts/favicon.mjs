#!/usr/bin/env node
// Redraw src/app/favicon.ico from src/app/icon.svg: Debian's chromium (playwright-core, already a
// dev dependency) renders the SVG at 16, 32 and 48 pixels, and the three PNGs are packed into one
// .ico (an ICONDIR header, one 16-byte entry per image, then the PNG data; PNG entries are valid
// in .ico files since Windows Vista and in every browser). Run by hand after changing the SVG:
// `npm run favicon`. Browsers ask for /favicon.ico whatever the page links, so both files exist.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const svgPath = fileURLToPath(new URL("../src/app/icon.svg", import.meta.url));
const icoPath = fileURLToPath(new URL("../src/app/favicon.ico", import.meta.url));
const SIZES = [16, 32, 48];

const svg = readFileSync(svgPath, "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
const pngs = [];
try {
  for (const size of SIZES) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const src = `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}</style><img src="${src}" width="${size}" height="${size}">`,
    );
    await page.locator("img").evaluate((img) => img.decode());
    pngs.push(await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
    await page.close();
  }
} finally {
  await browser.close();
}

const header = Buffer.alloc(6);
header.writeUInt16LE(0, 0); // reserved
header.writeUInt16LE(1, 2); // 1 = icon
header.writeUInt16LE(pngs.length, 4);
let offset = 6 + 16 * pngs.length;
const entries = pngs.map((png, i) => {
  const entry = Buffer.alloc(16);
  entry.writeUInt8(SIZES[i] % 256, 0); // width (0 would mean 256)
  entry.writeUInt8(SIZES[i] % 256, 1); // height
  entry.writeUInt8(0, 2); // no palette
  entry.writeUInt8(0, 3); // reserved
  entry.writeUInt16LE(1, 4); // colour planes
  entry.writeUInt16LE(32, 6); // bits per pixel
  entry.writeUInt32LE(png.length, 8);
  entry.writeUInt32LE(offset, 12);
  offset += png.length;
  return entry;
});
writeFileSync(icoPath, Buffer.concat([header, ...entries, ...pngs]));
console.log(`wrote ${icoPath} (${SIZES.join(", ")} px)`);
