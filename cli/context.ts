// What every verb needs: the effective config, an API client, and the current
// user's namespace (from whoami, asked once and only when needed).
import type { KindInfo } from '../crds/index.ts';
import { API_PREFIX, ApiClient } from './client.ts';
import { type CliConfig, loadConfig } from './config.ts';
import { CliError } from './errors.ts';

export interface WhoAmI {
  user: string;
  namespace?: string;
  admin: boolean;
  groups?: string[];
}

export interface NamespaceOptions {
  namespace?: string;
  allNamespaces?: boolean;
}

export class Context {
  readonly config: CliConfig;
  readonly client: ApiClient;
  private me: Promise<WhoAmI> | undefined;

  constructor(config: CliConfig) {
    this.config = config;
    this.client = new ApiClient({ server: config.server, token: config.token });
  }

  static async load(): Promise<Context> {
    return new Context(await loadConfig());
  }

  whoami(): Promise<WhoAmI> {
    this.me ??= this.client.get<WhoAmI>(`${API_PREFIX}/whoami`);
    return this.me;
  }

  /** The user's own namespace; admins without one must say -n. */
  async defaultNamespace(): Promise<string> {
    const me = await this.whoami();
    if (!me.namespace)
      throw new CliError(`user "${me.user}" has no namespace of their own; pass -n NAMESPACE`);
    return me.namespace;
  }

  /**
   * The namespace a command works in: undefined for cluster-scoped kinds and
   * with -A, else -n, else the current user's namespace.
   */
  async namespaceFor(info: KindInfo, opts: NamespaceOptions): Promise<string | undefined> {
    if (!info.namespaced) return undefined;
    if (opts.allNamespaces) return undefined;
    if (opts.namespace) return opts.namespace;
    return this.defaultNamespace();
  }
}
