// Clusters: names, tags and the counts DescribeClusters reports.
import type { Arns } from './arns.ts';
import { clusterNotFound } from './protocol.ts';
import type { Tag } from './tags.ts';

export interface ClusterRecord {
  name: string;
  arn: string;
  tags: Tag[];
  capacityProviders: string[];
  createdAt: number;
}

export class Clusters {
  private readonly byName = new Map<string, ClusterRecord>();
  private readonly arns: Arns;
  constructor(arns: Arns, initial: string[]) {
    this.arns = arns;
    for (const name of initial) this.create(name, []);
  }

  create(
    name: string,
    tags: Tag[],
    capacityProviders = ['FARGATE', 'FARGATE_SPOT'],
  ): ClusterRecord {
    const existing = this.byName.get(name);
    if (existing) return existing; // CreateCluster is idempotent for an existing name
    const record = {
      name,
      arn: this.arns.cluster(name),
      tags,
      capacityProviders,
      createdAt: Date.now(),
    };
    this.byName.set(name, record);
    return record;
  }

  find(name: string): ClusterRecord | undefined {
    return this.byName.get(name);
  }

  get(name: string): ClusterRecord {
    const c = this.byName.get(name);
    if (!c) throw clusterNotFound();
    return c;
  }
}
