package relay

import "github.com/reportline/reportline/relay/assets"

// Assets are the files the relay serves to browsers (package assets) and
// the frame page's templates, one per locale, that link them.
type Assets struct {
	*assets.Set
	widget map[string]*frameTemplate // by locale
}

// LoadAssets loads the files in dir and the snippet package (see
// [assets.Load]) and parses the frame page's templates.
func LoadAssets(dir string) (*Assets, error) {
	set, err := assets.Load(dir)
	if err != nil {
		return nil, err
	}
	a := &Assets{Set: set}
	if a.widget, err = parseFrame(a); err != nil {
		return nil, err
	}
	return a, nil
}
