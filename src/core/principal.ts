/** The clinical roles of ARCHITECTURE §6. */
export const ROLES = [
  'admin',
  'radiologist',
  'radiographer',
  'receptionist',
  'transcriptionist',
  'billing_clerk',
  'referring_doctor',
  'auditor',
] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, established once by authentication and never widened afterwards. */
export interface Principal {
  subject: string;
  role: Role;
  /** Explicit patient scope from the token (`patients` claim); undefined means "no explicit list". */
  patients?: readonly string[];
  /** The token's id (`jti`) when it has one, for audit. */
  tokenId?: string;
}
