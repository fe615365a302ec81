// Plain JavaScript, not next.config.ts: `next start` would load TypeScript to read a .ts config
// (about 0.15-0.2 CPU-s each start, and the tests start it about 40 times). The type still
// checks in an editor through the JSDoc below.

/** @type {import("next").NextConfig} */
const config = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Linting is not part of this project's toolchain; `next build` still type-checks strictly.
  eslint: { ignoreDuringBuilds: true },
  // The database driver and the password hasher run on the server only.
  serverExternalPackages: ["postgres", "bcryptjs"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          // Never framed by another site; URLs (with patient ids) never sent as a referrer.
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
          { key: "Referrer-Policy", value: "no-referrer" },
          { key: "X-Content-Type-Options", value: "nosniff" },
        ],
      },
      {
        // Pages carry patient data: no shared or back-forward cache copies (static assets excluded).
        source: "/((?!_next/static).*)",
        headers: [{ key: "Cache-Control", value: "no-store" }],
      },
    ];
  },
};

export default config;
