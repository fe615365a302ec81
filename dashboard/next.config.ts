import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Linting is not part of this project's toolchain; `next build` still type-checks strictly.
  eslint: { ignoreDuringBuilds: true },
  // The database driver and the password hasher run on the server only.
  serverExternalPackages: ["postgres", "bcryptjs"],
};

export default config;
