# R surveillance's answers for series.csv (the test oracle of tests/test_early_warning.py).
# Regenerate with: Rscript make_reference.R  (needs r-cran-surveillance)
suppressMessages(library(surveillance))
d <- read.csv("series.csv")
s <- sts(observed=d$count, frequency=52, start=c(2019, 1))
n <- nrow(d)
runs <- list(
  "ears-c1"=earsC(s, control=list(method="C1")),
  "ears-c2"=earsC(s, control=list(method="C2")),
  "ears-c3"=earsC(s, control=list(method="C3")),
  # farrington() on an sts needs a range: algo.farrington's own default, (52*b - w):n
  "farrington"=suppressWarnings(farrington(s, control=list(range=(52*5-3):n))),
  "farrington-flexible"=farringtonFlexible(s),
  # glrnb needs a range: from the second year on (one year to fit mu0)
  "glrnb"=suppressMessages(glrnb(s, control=list(range=53:n))))
out <- do.call(rbind, lapply(names(runs), function(a) {
  r <- runs[[a]]; k <- nrow(r@observed)
  data.frame(algorithm=a, period=d$period[(n-k+1):n], alarm=as.integer(r@alarm[,1]),
             upperbound=r@upperbound[,1])
}))
write.csv(out, "r_reference.csv", row.names=FALSE, na="NA")
cat(R.version.string, "surveillance", as.character(packageVersion("surveillance")), "\n")
