"""Speed: the load generator, the stock-bot baseline, the side-by-side comparison and the small
adaptations of Rasa that make the production profile fast (``docs/performance.md``)."""
