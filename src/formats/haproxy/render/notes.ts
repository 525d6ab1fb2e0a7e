/** What an export could not say exactly in haproxy.cfg: a comment in the file, a warning on stderr. */

/** One thing the export approximated or left out, and where. */
export interface ExportNote {
  /** The haproxy.cfg section it belongs to (`backend web`, `frontend public`, `global`). */
  readonly section: string;
  readonly message: string;
}

/** Collects notes while sections are rendered. */
export class Notes {
  readonly list: ExportNote[] = [];

  /** Records a note and returns it as a comment line for the section. */
  add(section: string, message: string): string {
    this.list.push({ section, message });
    return `  # not exact: ${message}`;
  }
}
