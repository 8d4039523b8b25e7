package report

import "slices"

// Mapping is how one value of a report reads in the vocabularies hotlines
// share: INHOPE's Universal Classification Schema (version 3), which
// hotlines use in ICCAM, and NCMEC's CyberTipline. The table is
// [Mappings]; docs/report-format.md shows it and a test holds the two
// together.
//
// A report gives the reporter's view, not an analyst's assessment, so a
// mapping names the schema's labels an analyst starts from; the analyst
// confirms or corrects them.
type Mapping struct {
	// Member and Value are the report member and the value that maps:
	// "category" and "csam", or "threatened" and "yes".
	Member, Value string
	// UCS are the labels of the Universal Classification Schema, each
	// "Section: Label": the schema's section (Categorisation,
	// Investigative or Demographic), which is exact, and a plain
	// description of the label, which approximates the schema's own
	// name: INHOPE shares those only with its members (see
	// docs/report-format.md, "Shared labels").
	UCS []string
	// Incident is NCMEC's CyberTipline incident type, where one exists.
	Incident string
	// Annotations are NCMEC's report annotations, where they exist.
	Annotations []string
	// Priority is set where the value asks NCMEC's escalation to high
	// priority.
	Priority bool
}

// Mappings returns every value of format v1.1 that maps to a shared label:
// each category, and each content kind and answer that the schema or
// NCMEC annotate. A value with no row maps to nothing. (A function, not a
// variable, so that the browser's module, which never classifies, does
// not carry the table.)
func Mappings() []Mapping {
	return []Mapping{
		{Member: "category", Value: "csam", UCS: []string{"Categorisation: Child sexual abuse material"},
			Incident: "Child Pornography (possession, manufacture, and distribution)"},
		{Member: "category", Value: "grooming", UCS: []string{"Investigative: Grooming"},
			Incident: "Online Enticement of Children for Sexual Acts"},
		{Member: "category", Value: "sextortion", UCS: []string{"Investigative: Sextortion"},
			Incident: "Online Enticement of Children for Sexual Acts", Annotations: []string{"sextortion"}},
		{Member: "category", Value: "intimate_images_minor", UCS: []string{"Categorisation: Child sexual abuse material", "Investigative: Shared without consent"},
			Incident: "Child Pornography (possession, manufacture, and distribution)"},
		{Member: "category", Value: "trafficking", UCS: []string{"Investigative: Commercial sexual exploitation"},
			Incident: "Child Sex Trafficking"},
		{Member: "category", Value: "travel_tourism", UCS: []string{"Investigative: Sexual exploitation in travel and tourism"},
			Incident: "Child Sex Tourism"},
		{Member: "category", Value: "sexual_material_to_child", UCS: []string{"Investigative: Sexual material sent to a child"},
			Incident: "Unsolicited Obscene Material Sent to a Child"},
		{Member: "category", Value: "misleading", UCS: []string{"Investigative: Misleading domain or content"},
			Incident: "Misleading Domain Name"},
		{Member: "content", Value: "virtual", UCS: []string{"Categorisation: Virtual or computer-generated"},
			Annotations: []string{"generative AI"}},
		{Member: "content", Value: "livestream", UCS: []string{"Investigative: Livestream"},
			Annotations: []string{"live-streaming"}},
		{Member: "ai_made", Value: "yes", UCS: []string{"Categorisation: Virtual or computer-generated"},
			Annotations: []string{"generative AI"}},
		{Member: "live_now", Value: "yes", UCS: []string{"Investigative: Livestream"},
			Annotations: []string{"live-streaming"}},
		{Member: "threatened", Value: "yes", UCS: []string{"Investigative: Sextortion"},
			Annotations: []string{"sextortion"}},
		{Member: "images_exchanged", Value: "yes", UCS: []string{"Investigative: Solicitation of images"},
			Annotations: []string{"solicitation"}},
		{Member: "reporter_in_images", Value: "yes", UCS: []string{"Investigative: Self-generated"},
			Annotations: []string{"self-produced"}},
		{Member: "reporter_under_18", Value: "yes", UCS: []string{"Demographic: Reporter is a minor"}},
		{Member: "urgent", Value: "yes", UCS: []string{"Investigative: Child at immediate risk"}, Priority: true},
	}
}

// Labels are a report's values in the shared vocabularies, as the intake
// stores them beside the report.
type Labels struct {
	// UCS are the Universal Classification Schema's labels, in table
	// order, each once.
	UCS []string `json:"ucs"`
	// Incident is NCMEC's incident type of the report's category.
	Incident string `json:"ncmec_incident_type,omitempty"`
	// Annotations are NCMEC's report annotations, each once.
	Annotations []string `json:"ncmec_annotations,omitempty"`
	// Priority says the report asks NCMEC's escalation to high priority.
	Priority bool `json:"ncmec_escalate_to_high_priority,omitempty"`
}

// Classify returns the labels of a report: those of every member whose
// value has a row in [Mappings].
func Classify(r *Report) *Labels {
	l := &Labels{UCS: []string{}}
	for _, m := range Mappings() {
		if fieldValue(m.Member, r) != m.Value {
			continue
		}
		for _, u := range m.UCS {
			if !slices.Contains(l.UCS, u) {
				l.UCS = append(l.UCS, u)
			}
		}
		for _, a := range m.Annotations {
			if !slices.Contains(l.Annotations, a) {
				l.Annotations = append(l.Annotations, a)
			}
		}
		if m.Incident != "" && l.Incident == "" {
			l.Incident = m.Incident
		}
		l.Priority = l.Priority || m.Priority
	}
	return l
}
