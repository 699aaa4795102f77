// Names the server gives in Chinese only (the fixed specialties): shown in the reader's
// language where the work i18n files have one, else as the server sends them.
type T = (key: string) => string;
type TE = (key: string) => boolean;

export function specialtyName(t: T, te: TE, specialty: string): string {
  const key = `wlabel.specialty.${specialty}`;
  return te(key) ? t(key) : specialty;
}
