import type { SignInState } from "@/app/login/actions";

/** Why a sign-in was refused, as the sign-in page and the page's own sign-in (SessionGuard) say it. */
export const SIGN_IN_REFUSED: Record<NonNullable<SignInState["error"]>, string> = {
  credentials: "E-mail or password is not correct. Check the password and try again.",
  throttled: "Too many attempts. Please wait a few minutes and try again.",
  too_long: "The e-mail or password is longer than any account's. Check what was pasted.",
  busy: "Signing in took too long: the database is busy. Try again in a moment; if it keeps failing, tell your administrator.",
};
