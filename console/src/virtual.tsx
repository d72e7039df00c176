// A virtualised list: only the rows in view are in the DOM, so 100,000 rows scroll like 100.
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from "@tanstack/virtual-core";
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";

export function VirtualList<T>({
  items,
  rowHeight,
  height,
  row,
  className,
}: {
  items: T[];
  rowHeight: number;
  height: number;
  row: (item: T, index: number) => ComponentChildren;
  className?: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [virtualizer] = useState(
    () =>
      new Virtualizer<HTMLDivElement, Element>({
        count: items.length,
        getScrollElement: () => scroller.current,
        estimateSize: () => rowHeight,
        overscan: 12,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        onChange: () => rerender(0),
      }),
  );
  virtualizer.setOptions({ ...virtualizer.options, count: items.length, estimateSize: () => rowHeight });
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useEffect(() => {
    virtualizer._willUpdate();
  });
  return (
    <div ref={scroller} class={`virtual ${className ?? ""}`} style={{ height: `${height}px`, overflow: "auto" }}>
      <div style={{ height: `${virtualizer.getTotalSize()}px`, position: "relative" }}>
        {virtualizer.getVirtualItems().map((virtual) => (
          <div
            key={virtual.key as number}
            class="virtual-row"
            style={{ position: "absolute", top: 0, left: 0, right: 0, height: `${rowHeight}px`, transform: `translateY(${virtual.start}px)` }}
          >
            {row(items[virtual.index], virtual.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
