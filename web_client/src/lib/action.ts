// What every form in the views shares: one action at a time (busy), its error as an i18n key
// and parameters (lib/errors.ts words every code), and a confirmation note.
import { ref } from "vue";
import { describe, type Problem } from "./errors";

export type { Problem } from "./errors";

export function useAction() {
  const busy = ref(false);
  const error = ref<Problem | null>(null);
  const note = ref("");

  /** Run ``work``; on success show ``done()`` (if given) unless ``work`` answered ``false`` (it
   * did nothing: a problem of the form is shown already); on failure show the error.  Returns
   * whether it succeeded. */
  async function run(work: () => Promise<unknown>, done?: () => string): Promise<boolean> {
    error.value = null;
    note.value = "";
    busy.value = true;
    try {
      const result = await work();
      if (done && result !== false) note.value = done();
      return result !== false;
    } catch (e) {
      error.value = describe(e);
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, note, run };
}
