import { Link } from '../../lib/router.tsx';

/** A link to the lineage graph of one entity (`table:main.s.t`, `run:<id>`, `model_version:main.s.m/3`, `endpoint:name`). */
export function LineageLink({ entity, label }: { entity: string; label: string }) {
  return <Link href={`/lineage?${new URLSearchParams({ entity })}`}>{label}</Link>;
}
