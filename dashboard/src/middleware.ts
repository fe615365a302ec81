import { NextResponse, type NextRequest } from "next/server";
import { PATH_HEADER } from "@/lib/return-path";

/**
 * Pass the requested path and query to the server components (a layout is not told which page
 * it wraps), so that the redirect to sign-in can say where to come back to (lib/auth.ts). A
 * client cannot set the header itself: it is overwritten here on every request.
 */
export function middleware(request: NextRequest): NextResponse {
  const headers = new Headers(request.headers);
  headers.set(PATH_HEADER, request.nextUrl.pathname + request.nextUrl.search);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  // Pages only: not the build's assets, the icons, or the sign-in page itself.
  matcher: ["/((?!_next/|favicon.ico|icon.svg|login).*)"],
};
