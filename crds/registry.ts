// The contract every other folder uses to handle a kind generically: its names,
// scope, schema and printer columns. The kinds themselves fill it in.
import type { z } from 'zod';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** Simple JSONPath as Kubernetes uses: `.spec.toolRef`, `.status.conditions[?(@.type=="Ready")].status`. */
  jsonPath: string;
  description?: string;
  /** 0 shows in `get`; 1 only in `get -o wide`. */
  priority?: 0 | 1;
}

export interface KindInfo {
  kind: string;
  /** Lowercase plural, the path segment: `toolinstances`. */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** When true, writes to the main resource ignore `status` and `/status` writes only `status`. */
  statusSubresource: boolean;
  /**
   * The whole object (apiVersion, kind, metadata, spec, status). Parsing applies
   * defaults; unknown fields are refused.
   */
  schema: z.ZodType;
  printerColumns: PrinterColumn[];
}
