// useAction of lib/action.ts, with the work screens' error codes (lib/work/errors.ts).
import { useAction } from "../action";
import { describeWork } from "./errors";

export type { Problem } from "../action";

export function useWorkAction() {
  return useAction(describeWork);
}
