/** A menu entry whose page is not built yet (issue #14): says so instead of a blank screen. */
export default function PlaceholderPage({ title }: { title: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <p>此功能正在建设中。</p>
    </section>
  );
}
