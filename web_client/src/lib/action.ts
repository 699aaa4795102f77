// What every form in the views shares: one action at a time (busy), its error as an i18n key
// and parameters, and a confirmation note.
import { ref } from "vue";
import { describe } from "./errors";

export function useAction() {
  const busy = ref(false);
  const error = ref<[string, Record<string, string>] | null>(null);
  const note = ref("");

  /** Run ``work``; on success show ``done`` (if given); on failure show the error. */
  async function run(work: () => Promise<unknown>, done?: () => string): Promise<void> {
    error.value = null;
    note.value = "";
    busy.value = true;
    try {
      await work();
      if (done) note.value = done();
    } catch (e) {
      error.value = describe(e);
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, note, run };
}
