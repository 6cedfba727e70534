type CheckStatus = "ok" | "warn" | "fail";

/** One line of `clawgate doctor`: what was checked, how it went, and how to fix it. */
export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}
