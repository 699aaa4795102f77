// Words for the values the API sends in Chinese or as codes (specialties, review tags, levels,
// statuses): a translation when there is one, else the value itself.
import { useI18n } from "vue-i18n";

export function useLabels() {
  const { t, te, locale } = useI18n();
  const word = (section: string, value: string): string => {
    const key = `market.${section}.${value}`;
    return value && te(key) ? t(key) : value;
  };
  return {
    specialty: (s: string) => word("specialties", s),
    reviewTag: (s: string) => word("review_tags", s),
    level: (s: string) => word("levels", s),
    gender: (s: string) => word("genders", s),
    /** a date and time in China time, in the page's language */
    when: (iso: string | null) => (iso ? new Date(iso).toLocaleString(locale.value, { timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }) : ""),
    day: (iso: string | null) => (iso ? new Date(iso).toLocaleDateString(locale.value, { timeZone: "Asia/Shanghai" }) : ""),
  };
}
